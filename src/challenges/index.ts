/**
 * `tessera/challenges`: throttled challenge tokens (ms-token semantics, seed
 * 003) on any Tessera store: sealed or plain secrets, regenerate, first
 * verification tracking, attempt budgets.
 * @module
 */
export { type Challenges, createChallenges, DEFAULT_ATTEMPT_BUDGET } from './challenges.js';
export {
  type AttemptBudget,
  type Challenge,
  type ChallengeLookup,
  type ChallengesOptions,
  type CreateChallengeInput,
  type CreatedChallenge,
  type ImportChallengeInput,
  type InfoInput,
  NEVER,
  type RegeneratedChallenge,
  type RegenerateOptions,
  type RemoveOptions,
  type ResolvedSecretSettings,
  type SecretSettings,
  type Ttl,
  type VerifiedChallenge,
  type VerifyFailureReason,
  type VerifyInput,
  type VerifyOptions,
  type VerifyResult,
} from './types.js';
