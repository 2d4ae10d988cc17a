export { checkLockName, type DistributedLock, fencedUpdate, type Lease, StaleTokenError } from './fencing.js';
export { postgresLock } from './postgres.js';
export { redisLock } from './redis.js';
export { findCycle, type WaitEdge, WaitForGraph } from './wait-for.js';
export { MariaDbWaitForGraph } from './wait-for-mariadb.js';
