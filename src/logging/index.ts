export { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logger.ts';
export { loggerOr, silentLogger } from './silent.ts';
