#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildConvexStorageApp } from '../lib/app/build-app';

buildConvexStorageApp(new App());
