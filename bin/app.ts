#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildConvexStorageApp } from '../lib/app/build-app';

try {
  buildConvexStorageApp(new App());
} catch (error) {
  // Bad context or props: the message names each setting and its fix; a stack trace would bury it.
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
