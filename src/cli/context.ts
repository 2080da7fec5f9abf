/**
 * What every CLI command receives: its arguments, output streams, and lazy
 * access to the configured store and keys. Commands never print a secret
 * except the one they were asked to create, printed once.
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { Keyring } from '../core/keyring.js';
import type { Store } from '../stores/contract.js';

/** Output of a command. */
export interface CliIo {
  /** Write to standard output (a line break is not added). */
  out(text: string): void;
  /** Write to standard error. */
  err(text: string): void;
  /**
   * Whether standard error is a terminal: progress bars are drawn there, and
   * the admin credential is shown there at first start (never on standard
   * output, which carries the service's logs).
   */
  readonly stderrIsTty: boolean;
}

/** The configured environment of a command (from flags, env and the config file). */
export interface CliContext {
  readonly io: CliIo;
  readonly clock: Clock;
  /** Open (and migrate) the configured store; the caller closes it. */
  openStore(): Promise<Store>;
  /**
   * The server keyring: `TESSERA_SECRET`, or the secret file the service created in
   * the data directory.
   * @throws ConfigError when there is neither (commands never create one)
   */
  keyring(): Promise<Keyring>;
}

/** A `tessera` sub-command. */
export interface CliCommand {
  /** The word after `tessera`, e.g. `tokens`. */
  readonly name: string;
  /** One line for `tessera --help`. */
  readonly summary: string;
  /** Full help text for `tessera <name> --help`. */
  readonly help: string;
  /**
   * Run with the arguments after the command name. Resolves to the exit code.
   * Bad arguments print a clear message to stderr and resolve to 2.
   */
  run(args: readonly string[], ctx: CliContext): Promise<number>;
}
