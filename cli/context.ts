/**
 * What every CLI command shares: config loading that exits with code 2 and one line per
 * problem, and the process logger.
 */
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load';
import { builtInConnectors } from '../connectors/registry';
import { createLogger, type Logger } from '../observability/logger';

let logger: Logger | undefined;

export function cliLogger(config?: LoadedConfig): Logger {
  if (config) {
    logger = createLogger({ level: process.env.LOG_LEVEL ?? config.logging.level, secretValues: config.secretValues, secretHeaders: config.secretHeaders });
  }
  logger ??= createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  return logger;
}

export function loadCliConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  try {
    const config = loadConfig(file, { registry: builtInConnectors(), env });
    cliLogger(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`${err.file}: ${problem}\n`);
      process.exit(2);
    }
    throw err;
  }
}
