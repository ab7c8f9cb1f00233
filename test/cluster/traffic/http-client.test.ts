import { describe, expect, it } from 'vitest';
import { parseEchoBody } from '../../../cluster/traffic/http-client.js';

describe('parseEchoBody', () => {
  it('reads the echoserver answer', () => {
    const body = 'Hostname: deploy-echo-1\n\nRequest Information:\n\tclient_address=172.18.0.3\n\tmethod=GET\nRequest Headers:\n\tx-forwarded-for=198.51.100.10\n';
    expect(parseEchoBody(body)).toEqual({ hostname: 'deploy-echo-1', clientAddress: '172.18.0.3', xff: '198.51.100.10' });
  });
  it('prefers the PROXY header client, as a PPv2-aware app logs it', () => {
    const body = 'Hostname: web\n\tclient_address=172.18.1.10\n\tproxy_protocol=v2 PROXY\n\tproxy_protocol_client=198.51.100.10:41234\n';
    expect(parseEchoBody(body)).toMatchObject({ clientAddress: '198.51.100.10', xff: null });
  });
});
