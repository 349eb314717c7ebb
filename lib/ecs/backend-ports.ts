/**
 * Where the backend listens, and how it is health-checked (upstream's docker-compose file and
 * `run_backend.sh`). No aws-cdk-lib here: the CLI and other constructs share these facts.
 */

/** Port of the backend API (`CONVEX_CLOUD_ORIGIN` points here). */
export const BACKEND_API_PORT = 3210;
/** Port of the HTTP actions (`CONVEX_SITE_ORIGIN` points here). */
export const BACKEND_SITE_PORT = 3211;
/** Port of the optional dashboard container. */
export const DASHBOARD_PORT = 6791;
/** The backend's health check, as upstream's docker-compose file runs it. */
export const BACKEND_HEALTH_CHECK_COMMAND = `curl -f http://localhost:${BACKEND_API_PORT}/version`;
