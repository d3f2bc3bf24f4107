/**
 * Task queue names. Each connector instance has its own queue so that the Temporal server can
 * rate-limit that instance's activities across every worker (maxTaskQueueActivitiesPerSecond).
 */
export function connectorTaskQueue(hubTaskQueue: string, connectorId: string): string {
  return `${hubTaskQueue}.connector.${connectorId}`;
}
