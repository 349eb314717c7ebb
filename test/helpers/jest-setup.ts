/**
 * Runs in every test file (jest setupFilesAfterEnv): a test prints nothing (a test that expects
 * a warning asserts it), and the apps' outdirs are removed after the file.
 */
import { format } from 'node:util';
import { removeTestOutdirs } from './cdk-app';

const printed: string[] = [];
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
    printed.push(`console.${method}: ${format(...args)}`);
  });
}

afterEach(() => {
  const lines = printed.splice(0);
  if (lines.length > 0) {
    throw new Error(`The test printed (assert it instead, or keep it quiet):\n${lines.join('\n').slice(0, 4000)}`);
  }
});

afterAll(() => removeTestOutdirs());
