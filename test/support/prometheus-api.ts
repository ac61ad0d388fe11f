/** Instant queries against the test environment's Prometheus. */
import { strict as assert } from 'node:assert';
import { testEnv } from './test-env';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The instant vector (or scalar, as one sample) of a PromQL expression, at `at` (unix seconds) or now. */
export async function query(promql: string, at?: number): Promise<PromSample[]> {
  const time = at === undefined ? '' : `&time=${at}`;
  const response = await fetch(`${testEnv().prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}${time}`);
  const answer = (await response.json()) as {
    status: string;
    error?: string;
    data: { resultType: string; result: PromSample[] | [number, string] };
  };
  assert.equal(answer.status, 'success', `${promql}: ${answer.error}`);
  const { resultType, result } = answer.data;
  // A scalar is filled when it is a number: scalar() of an empty vector is NaN.
  if (resultType === 'scalar')
    return Number.isNaN(Number((result as [number, string])[1]))
      ? []
      : [{ metric: {}, value: result as [number, string] }];
  return result as PromSample[];
}

/** The value of an expression that must return exactly one sample. */
export async function queryValue(promql: string, at?: number): Promise<number> {
  const result = await query(promql, at);
  assert.equal(result.length, 1, `${promql} → ${JSON.stringify(result)}`);
  return Number(result[0]!.value[1]);
}
