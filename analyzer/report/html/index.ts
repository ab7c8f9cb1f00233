export { renderHtml, type HtmlReportInput, type HtmlScenario } from './render.js';
export { planPathShapes, type PathShape, type PlannedArrow } from './sequence.js';
