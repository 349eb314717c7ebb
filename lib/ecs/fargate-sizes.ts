/**
 * The CPU and memory combinations Fargate accepts for a Linux task.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */

interface MemoryRange {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  /**
   * Extra values outside the stepped range.
   *
   * @default - none
   */
  readonly also?: readonly number[];
}

/** CPU units to the memory (MiB) each allows. */
const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, MemoryRange>> = {
  256: { min: 1024, max: 2048, step: 1024, also: [512] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/** CPU units of the backend's task when none are given: 1 vCPU. */
export const DEFAULT_BACKEND_CPU = 1024;

/** Memory (MiB) of the backend's task when none is given: 2 GiB, the smallest size with 1 vCPU. */
export const DEFAULT_BACKEND_MEMORY_MIB = 2048;

/** The CPU values (units, 1024 = 1 vCPU) Fargate accepts. */
export const FARGATE_CPU_VALUES: readonly number[] = Object.keys(FARGATE_MEMORY_BY_CPU).map(Number);

/** The memory sizes (MiB) Fargate accepts with `cpu`, ascending; empty for an invalid CPU. */
export function fargateMemoryOptions(cpu: number): number[] {
  const range = FARGATE_MEMORY_BY_CPU[cpu];
  if (!range) return [];
  const values = [...(range.also ?? [])];
  for (let m = range.min; m <= range.max; m += range.step) values.push(m);
  return values.sort((a, b) => a - b);
}

/** Problems with a CPU and memory combination; empty when Fargate accepts it. */
export function fargateSizeProblems(cpu: number, memoryMiB: number): string[] {
  const options = fargateMemoryOptions(cpu);
  if (options.length === 0) {
    return [`cpu ${cpu} is not a Fargate size: use one of ${FARGATE_CPU_VALUES.join(', ')} (1024 = 1 vCPU).`];
  }
  if (!options.includes(memoryMiB)) {
    const range = FARGATE_MEMORY_BY_CPU[cpu];
    return [`memoryLimitMiB ${memoryMiB} does not fit cpu ${cpu} on Fargate: use ${range.also ? `${range.also.join(', ')} or ` : ''}${range.min} to ${range.max} in steps of ${range.step}.`];
  }
  return [];
}
