/**
 * Reads the LABEL instructions of a Dockerfile the way BuildKit's dockerfile frontend does
 * (moby/buildkit `frontend/dockerfile/parser`, `instructions` and `shell`), for `check --dockerfile`.
 *
 * Three small layers: physical lines become instructions (parser directives, comments, line
 * continuations, heredoc bodies), an instruction's arguments become words (quotes kept), and each
 * word is expanded (quotes removed, `$VAR` substituted) against the ARG and ENV values in scope.
 *
 * Where we cannot know what the real build sees (a build arg nobody passed us, an ENV of the base
 * image), the reference is kept as written and the label marked `unresolved`: Docker would
 * substitute whatever the real build has, which is not necessarily empty.
 */
import { InstructionReader } from './dockerfile/instructions';
import { StageEvaluator, type DockerfileLabels } from './dockerfile/stages';

export { DockerfileSyntaxError } from './dockerfile/syntax-error';
export type { DockerfileLabel, DockerfileLabels } from './dockerfile/stages';

export function parseDockerfileLabels(
  text: string,
  buildArgs: Readonly<Record<string, string>> = {},
): DockerfileLabels {
  const reader = new InstructionReader(text);
  const evaluator = new StageEvaluator(buildArgs);
  for (let instruction = reader.read(); instruction; instruction = reader.read()) {
    evaluator.apply(instruction, reader.escape);
  }
  return evaluator.result(reader.lineCount);
}
