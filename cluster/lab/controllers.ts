/**
 * The lab's plug-in controllers, run in this order on every reconcile pass. Add a controller by
 * appending it here (the NLB emulator adds its own).
 */
import { metallbController } from '../metallb/controller.js';
import { nlbController } from '../nlb/controller.js';
import type { LabController } from './context.js';

export const LAB_CONTROLLERS: LabController[] = [metallbController, nlbController];
