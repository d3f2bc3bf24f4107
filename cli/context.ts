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

/** The connectors a command connects to: `none`, all of them (default), or the ones named. */
export type ConnectorsUsed = 'all' | 'none' | readonly string[];

/**
 * Loads the config for a command, exiting 2 with one line per problem. Only the references of
 * the connectors the command uses must resolve; any other unresolved one is a warning on stderr
 * (e.g. `config validate` without the shop's token set).
 */
export function loadCliConfig(file: string, uses: ConnectorsUsed = 'all', env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  try {
    const requireReferencesOf = uses === 'all' ? undefined : new Set(uses === 'none' ? [] : uses);
    const config = loadConfig(file, { registry: builtInConnectors(), env, ...(requireReferencesOf === undefined ? {} : { requireReferencesOf }) });
    cliLogger(config);
    for (const warning of config.warnings) process.stderr.write(`${config.file}: warning: ${warning}\n`);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`${err.file}: ${problem}\n`);
      process.exit(2);
    }
    throw err;
  }
}
