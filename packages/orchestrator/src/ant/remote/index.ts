export { type AntPrincipal, type AuthenticateAnt, bearerToken, staticAntTokens } from './auth.js';
export { type AntExit, RemoteAnt, type RemoteAntOptions } from './client.js';
export {
  AntConfigError,
  type AntSettings,
  type AntSettingsLayer,
  antSettingsFromEnv,
  antSettingsFromFile,
  resolveAntSettings,
  splitList,
  splitPairs,
} from './config.js';
export { AntArtifactDepot, type AntArtifactDepotOptions, type ArtifactUpload, DEFAULT_MAX_ARTIFACT_BYTES, DepotError } from './depot.js';
export { ANT_LOST, antOwner, RemoteAntHub, type RemoteAntHubOptions } from './hub.js';
export { ArtifactTransfer, type ArtifactTransferOptions, AttemptFenced, TransferRefused } from './transfer.js';
export * from './wire.js';
