/**
 * `omnisync codec-server`: the remote codec endpoint of the Temporal Web UI (and `temporal`
 * CLI) for the config's payload keys, until SIGINT/SIGTERM. Needs `temporal.encryption` with
 * its `codecServer` (token by reference); docs/operations.md, "Payload encryption".
 */
import { startCodecServer } from '../../temporal/codec-server';
import { payloadCodecOf } from '../../temporal/payload-codec';
import { cliLogger, loadCliConfig } from '../context';

export async function runCodecServerCommand(configFile: string): Promise<void> {
  const config = loadCliConfig(configFile, 'none');
  const logger = cliLogger();
  const encryption = config.temporal.encryption;
  const codec = payloadCodecOf(config.temporal);
  if (encryption === undefined || codec === undefined) {
    process.stderr.write(`${config.file}: temporal.encryption: required by "omnisync codec-server" (payloads are not encrypted without it)\n`);
    process.exit(2);
  }
  if (encryption.codecServer === undefined) {
    process.stderr.write(`${config.file}: temporal.encryption.codecServer: required by "omnisync codec-server" (its token at least: token: \${env:OMNISYNC_CODEC_TOKEN})\n`);
    process.exit(2);
  }
  const settings = encryption.codecServer;
  const server = await startCodecServer({ codec, token: settings.token, host: settings.host, port: settings.port, corsOrigins: settings.corsOrigins, logger: logger.child({ component: 'codec-server' }) });
  process.stdout.write(
    [
      `codec endpoint ${server.url} (POST /decode, /encode; Authorization: Bearer <temporal.encryption.codecServer.token>)`,
      `  browsers allowed from: ${settings.corsOrigins.join(', ') || 'none (set temporal.encryption.codecServer.corsOrigins to the Web UI origin)'}`,
      '  Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  logger.info('codec endpoint stopped');
}
