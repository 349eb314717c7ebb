export * from './storage-kinds';
export * from './backend-env';
export * from './dotenv';
export * from './compliance';
export * from './storage/bucket-defaults';
export * from './storage/access-logs-bucket';
export * from './storage/convex-storage';
export * from './stack/convex-storage-stack';
