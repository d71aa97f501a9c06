// The built-in handler types by the name the config file uses.
import type { AnyHandlerType } from '../handler.js';
import { httpHandler } from './http.js';
import { slackHandler } from './slack.js';
import { zendeskHandler } from './zendesk.js';
import { twilioHandler } from './twilio.js';
import { commandHandler } from './command.js';
import { logHandler } from './log.js';
import { moduleHandler } from './module.js';
import { emailHandler } from './email.js';
import { pagerdutyHandler } from './pagerduty.js';
import { teamsHandler } from './teams.js';
import { discordHandler } from './discord.js';

export const HANDLER_TYPES = ['http', 'slack', 'zendesk', 'twilio', 'command', 'log', 'module', 'email', 'pagerduty', 'teams', 'discord'] as const;
export type HandlerTypeName = (typeof HANDLER_TYPES)[number];

export const handlerTypes: Record<HandlerTypeName, AnyHandlerType> = {
  http: httpHandler,
  slack: slackHandler,
  zendesk: zendeskHandler,
  twilio: twilioHandler,
  command: commandHandler,
  log: logHandler,
  module: moduleHandler,
  email: emailHandler,
  pagerduty: pagerdutyHandler,
  teams: teamsHandler,
  discord: discordHandler,
};
