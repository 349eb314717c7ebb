/**
 * Runs AWS Control Tower's proactive controls (the cfn-guard rules that
 * `@cdklabs/cdk-validator-cfnguard` ships, with its cfn-guard binary) against a template, one
 * cfn-guard process per template, and reads its JSON report into (rule, resource) findings.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ControlTowerFinding } from './variants';

const PACKAGE_DIR = dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
/** The Control Tower rule files, one control per file (`ct-s3-pr-9.guard`). */
export const CONTROL_TOWER_RULES_DIR = join(PACKAGE_DIR, 'rules', 'control-tower', 'cfn-guard');

function guardBinary(): string {
  const os = platform() === 'linux' ? 'ubuntu' : platform() === 'darwin' ? 'macos' : undefined;
  const cpu = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : undefined;
  if (!os || !cpu) throw new Error(`cfn-guard ships no binary for ${platform()}/${arch()}`);
  return join(PACKAGE_DIR, 'bin', os, cpu, 'cfn-guard');
}

function ruleFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? ruleFiles(path) : entry.endsWith('.guard') ? [path] : [];
  });
}

interface RuleFile {
  readonly file: string;
  /** The control: the file's name, `ct-s3-pr-9`. */
  readonly control: string;
  /** The rules it defines (cfn-guard reports these names). */
  readonly rules: readonly string[];
  /** The resource types it reports on (its `Reports on:` header); undefined if it has none. */
  readonly reportsOn?: readonly string[];
}

let ruleCatalog: RuleFile[] | undefined;
function controlTowerRules(): RuleFile[] {
  ruleCatalog ??= ruleFiles(CONTROL_TOWER_RULES_DIR).map((file) => {
    const text = readFileSync(file, 'utf8');
    const header = /^# Reports on:\s*\n((?:#\s+AWS::\S+\s*\n)+)/m.exec(text);
    return {
      file,
      control: basename(file, '.guard'),
      rules: [...text.matchAll(/^rule\s+(\w+)\s+when\b/gm)].map((m) => m[1]),
      reportsOn: header ? [...header[1].matchAll(/AWS::\S+/g)].map((m) => m[0]) : undefined,
    };
  });
  return ruleCatalog;
}

/** cfn-guard reports the rule's name (`s3_bucket_object_lock_enabled_check`); the control is its file's. */
function controlOfRule(ruleName: string): string {
  return controlTowerRules().find((r) => r.rules.includes(ruleName))?.control ?? ruleName;
}

/**
 * The rule files that can fail on `template`: those reporting on a resource type it contains
 * (a control skips a template without its type), and any whose header names no type. Parsing
 * all 237 files costs cfn-guard about a second per run; these few, a tenth of that.
 */
export function controlTowerRulesFor(template: Record<string, any>): string[] {
  const types = new Set(Object.values(template.Resources ?? {}).map((r: any) => r.Type as string));
  return controlTowerRules().filter((r) => r.reportsOn === undefined || r.reportsOn.some((t) => types.has(t))).map((r) => r.file);
}

/** Every `/Resources/<LogicalId>` path named anywhere under a failing rule's checks. */
function failingLogicalIds(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) failingLogicalIds(item, into);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      const match = key === 'path' && typeof value === 'string' ? /^\/Resources\/([^/]+)/.exec(value) : null;
      if (match) into.add(match[1]);
      else failingLogicalIds(value, into);
    }
  }
  return into;
}

/** The findings of cfn-guard's `--output-format json --structured` report on `template`. */
export function parseGuardReport(report: string, template: Record<string, any>): ControlTowerFinding[] {
  const findings: ControlTowerFinding[] = [];
  for (const file of JSON.parse(report) as Array<{ not_compliant?: Array<{ Rule: { name: string } }> }>) {
    for (const failure of file.not_compliant ?? []) {
      const rule = controlOfRule(failure.Rule.name);
      for (const logicalId of [...failingLogicalIds(failure, new Set())].sort()) {
        const path = template.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'] as string | undefined;
        findings.push(path === undefined ? { rule, logicalId } : { rule, logicalId, path });
      }
    }
  }
  return findings.sort((a, b) => `${a.rule} ${a.logicalId}`.localeCompare(`${b.rule} ${b.logicalId}`));
}

/** Runs cfn-guard once on the template file against every Control Tower rule. */
export function runControlTower(templateFile: string): Promise<ControlTowerFinding[]> {
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as Record<string, any>;
  const rules = controlTowerRulesFor(template).flatMap((file) => ['--rules', file]);
  const args = ['validate', ...rules, '--data', templateFile, '--output-format', 'json', '--show-summary', 'none', '--structured'];
  return new Promise((resolve, reject) => {
    const guard = spawn(guardBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    guard.stdout.on('data', (chunk) => (stdout += chunk));
    guard.stderr.on('data', (chunk) => (stderr += chunk));
    guard.on('error', reject);
    guard.on('close', (code) => {
      // cfn-guard exits 0 when every rule passes or skips, 19 when one fails; anything else is its own error.
      if (code !== 0 && code !== 19) {
        reject(new Error(`cfn-guard exited ${code} on ${templateFile}:\n${stderr}`));
        return;
      }
      try {
        resolve(parseGuardReport(stdout, template));
      } catch (e) {
        reject(new Error(`cannot read cfn-guard's report on ${templateFile}: ${(e as Error).message}\n${stderr}`));
      }
    });
  });
}
