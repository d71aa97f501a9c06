// PagerDuty's Events API v2 as a local server answers it: the documented body checked, 202 or 400 as PagerDuty would.
import type { SinkAnswer, SinkRequest } from './sink.js';

/**
 * The Events API v2 alert event as PagerDuty documents it (developer.pagerduty.com, "Send an Alert Event"), written
 * independently of src/: the problems with a body, or [] when PagerDuty would accept it.
 */
export function pagerdutyProblems(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const allowed = ['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links', 'client', 'client_url'];
  for (const key of Object.keys(body)) if (!allowed.includes(key)) problems.push(`unknown field ${key}`);
  if (typeof body.routing_key !== 'string' || body.routing_key === '') problems.push('routing_key is required');
  if (!['trigger', 'acknowledge', 'resolve'].includes(body.event_action as string)) problems.push('event_action is invalid');
  if (body.dedup_key !== undefined && (typeof body.dedup_key !== 'string' || body.dedup_key.length > 255)) problems.push('dedup_key is invalid');
  if (body.event_action !== 'trigger') {
    if (typeof body.dedup_key !== 'string') problems.push('dedup_key is required to acknowledge or resolve');
    return problems;
  }
  const payload = body.payload as Record<string, unknown> | undefined;
  if (!payload || typeof payload !== 'object') return [...problems, 'payload is required'];
  if (typeof payload.summary !== 'string' || payload.summary === '' || payload.summary.length > 1024) problems.push('payload.summary is invalid');
  if (typeof payload.source !== 'string' || payload.source === '') problems.push('payload.source is required');
  if (!['critical', 'error', 'warning', 'info'].includes(payload.severity as string)) problems.push('payload.severity is invalid');
  if (payload.timestamp !== undefined && Number.isNaN(Date.parse(payload.timestamp as string))) problems.push('payload.timestamp is invalid');
  if (payload.custom_details !== undefined && (typeof payload.custom_details !== 'object' || payload.custom_details === null)) {
    problems.push('payload.custom_details must be an object');
  }
  for (const link of (body.links as Array<Record<string, unknown>> | undefined) ?? []) if (typeof link.href !== 'string') problems.push('links[].href is required');
  return problems;
}

/** Answers as PagerDuty does: 202 with the dedup key for a valid event, 400 with the errors otherwise. */
export function pagerdutyAnswer(request: SinkRequest): SinkAnswer {
  if (request.url !== '/v2/enqueue') return { status: 404 };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(request.body.toString()) as Record<string, unknown>;
  } catch {
    return { status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid' }) };
  }
  const problems = pagerdutyProblems(body);
  if (problems.length > 0) return { status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: problems }) };
  return { status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: body.dedup_key }) };
}
