import type { Kind } from '../databases.js';
import type { Level } from './sessions.js';

/**
 * The anomalies each database lets happen at each level, as observed on PostgreSQL 15 and
 * MariaDB 10.11 (docs/isolation.md sets this beside Hermitage's published table). Every other
 * scenario must be prevented, by a wait or an abort.
 */
export const ALLOWED: Record<Kind, Partial<Record<Level, readonly string[]>>> = {
  postgres: {
    // PostgreSQL runs READ UNCOMMITTED as READ COMMITTED.
    READ_UNCOMMITTED: ['PMP', 'PMP-write', 'P4', 'G-single', 'G-single-pred', 'G-single-write', 'G2-item', 'G2', 'G2-two-edges'],
    READ_COMMITTED: ['PMP', 'PMP-write', 'P4', 'G-single', 'G-single-pred', 'G-single-write', 'G2-item', 'G2', 'G2-two-edges'],
    REPEATABLE_READ: ['G2-item', 'G2', 'G2-two-edges'],
    SERIALIZABLE: [],
  },
  mariadb: {
    READ_UNCOMMITTED: [
      'G1a',
      'G1b',
      'G1c',
      'OTV',
      'PMP',
      'P4',
      'G-single',
      'G-single-pred',
      'G-single-write',
      'G2-item',
      'G2',
      'G2-two-edges',
    ],
    READ_COMMITTED: ['PMP', 'P4', 'G-single', 'G-single-pred', 'G-single-write', 'G2-item', 'G2', 'G2-two-edges'],
    REPEATABLE_READ: ['PMP-write', 'P4', 'G-single-write', 'G2-item', 'G2', 'G2-two-edges'],
    'REPEATABLE_READ+SI': ['G2-item', 'G2', 'G2-two-edges'],
    SERIALIZABLE: [],
  },
  sqlite: {
    SERIALIZABLE: [],
  },
};
