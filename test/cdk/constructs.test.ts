/**
 * `tessera/cdk`, tested by synthesizing stacks (no AWS account needed).
 * `aws-cdk-lib` and `constructs` are optional peers: without them these tests
 * skip with a loud warning, except in CI, where their absence fails the run.
 */
import { describe, expect, it } from 'vitest';
import { tableDefinition } from '../../src/stores/dynamodb/schema.js';

type Loaded = {
  cdk: typeof import('aws-cdk-lib');
  assertions: typeof import('aws-cdk-lib/assertions');
  lambda: typeof import('aws-cdk-lib/aws-lambda');
  kms: typeof import('aws-cdk-lib/aws-kms');
  secretsmanager: typeof import('aws-cdk-lib/aws-secretsmanager');
  tessera: typeof import('../../src/cdk/index.js');
};

let loaded: Loaded | undefined;
try {
  const [cdk, assertions, lambda, kms, secretsmanager, tessera] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/assertions'),
    import('aws-cdk-lib/aws-lambda'),
    import('aws-cdk-lib/aws-kms'),
    import('aws-cdk-lib/aws-secretsmanager'),
    import('../../src/cdk/index.js'),
  ]);
  loaded = { cdk, assertions, lambda, kms, secretsmanager, tessera };
} catch (err) {
  if (process.env.CI === 'true') throw err;
  console.warn(
    `\n${'!'.repeat(78)}\n!!! test/cdk SKIPPED: aws-cdk-lib / constructs cannot be imported (${
      (err as Error).message
    }).\n!!! Install the optional peers to run them: npm i -D aws-cdk-lib constructs\n${'!'.repeat(78)}\n`,
  );
}

type Template = import('aws-cdk-lib/assertions').Template;

function setup() {
  const { cdk, lambda } = loaded as Loaded;
  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'Stack', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  return { stack, fn };
}

/** Every IAM statement of the stack. */
function statements(
  t: Template,
): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: never[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

function actionsOf(t: Template): string[] {
  return statements(t)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();
}

/** What `ISecret.grantRead` allows, on that secret only. */
const SECRET_READ_ACTIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];

/** The statements of the stack that name a Secrets Manager action (actions sorted). */
function secretStatements(t: Template): unknown[] {
  return statements(t)
    .map((s) => ({ ...s, Action: (Array.isArray(s.Action) ? s.Action : [s.Action]).sort() }))
    .filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:')));
}

function tableId(t: Template): string {
  return Object.keys(t.findResources('AWS::DynamoDB::Table'))[0] as string;
}

function envOf(t: Template): Record<string, unknown> {
  const fns = Object.values(t.findResources('AWS::Lambda::Function')) as Array<{
    Properties: { Environment?: { Variables?: Record<string, unknown> } };
  }>;
  return fns[0]?.Properties.Environment?.Variables ?? {};
}

describe.skipIf(loaded === undefined)('tessera/cdk', () => {
  describe('TesseraTable', () => {
    it('creates the table the store expects: keys, four KEYS_ONLY indexes, TTL, on-demand, safe defaults', () => {
      const { assertions, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const t = new tessera.TesseraTable(stack, 'Tessera');
      t.grantAccess(fn);
      const template = assertions.Template.fromStack(stack);
      const def = tableDefinition('x', t.indexNames);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: def.KeySchema,
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: def.GlobalSecondaryIndexes?.map((g) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema,
          Projection: { ProjectionType: 'KEYS_ONLY' },
        })),
      });
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      const sse = (
        template.findResources('AWS::DynamoDB::Table')[tableId(template)] as {
          Properties: { SSESpecification?: { SSEType?: string } };
        }
      ).Properties.SSESpecification;
      expect(sse?.SSEType).toBeUndefined();
      expect(t.indexNames).toEqual(['gsi1', 'gsi2', 'gsi3', 'gsi4']);
    });

    it('grants only the item actions the store uses, on the table and its indexes, and sets the environment', () => {
      const { assertions, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const t = new tessera.TesseraTable(stack, 'Tessera', { indexPrefix: 'ix' });
      t.grantAccess(fn);
      const template = assertions.Template.fromStack(stack);
      expect(actionsOf(template)).toEqual([...tessera.DATA_ACTIONS].sort());
      expect(actionsOf(template)).not.toContain('dynamodb:Scan');
      const id = tableId(template);
      const dynamoStatement = statements(template).find((s) =>
        (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('dynamodb:GetItem'),
      );
      expect(dynamoStatement?.Resource).toEqual([
        { 'Fn::GetAtt': [id, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/index/*']] },
      ]);
      expect(envOf(template)).toEqual({
        TESSERA_DYNAMODB_TABLE: { Ref: id },
        TESSERA_DYNAMODB_INDEX_PREFIX: 'ix',
      });
    });

    it('takes point-in-time recovery, deletion protection, removal policy and a customer-managed key', () => {
      const { assertions, cdk, kms, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const key = new kms.Key(stack, 'Key');
      const t = new tessera.TesseraTable(stack, 'Tessera', {
        tableName: 'tessera-dev',
        pointInTimeRecovery: false,
        deletionProtection: false,
        removalPolicy: cdk.RemovalPolicy.DESTROY,
        encryptionKey: key,
      });
      t.grantAccess(fn, { scan: true });
      const template = assertions.Template.fromStack(stack);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'tessera-dev',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
        DeletionProtectionEnabled: false,
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [assertions.Match.stringLikeRegexp('^Key'), 'Arn'] },
        },
      });
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
      const actions = actionsOf(template);
      expect(actions).toContain('dynamodb:Scan');
      for (const a of tessera.KMS_ACTIONS) expect(actions).toContain(a);
      const kmsStatement = statements(template).find((s) =>
        (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('kms:Decrypt'),
      );
      expect(JSON.stringify(kmsStatement?.Resource)).toMatch(/"Key[0-9A-F]*","Arn"/);
    });
  });

  describe('ActionTokens (drop-in for @beesolve/action-tokens/cdk)', () => {
    it('creates a Tessera table with lookup indexes and a generated server secret', () => {
      const { assertions, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const tokens = new tessera.ActionTokens(stack, 'ActionTokens', {
        pointInTimeRecoveryEnabled: false,
      });
      tokens.grantAccess(fn);
      const template = assertions.Template.fromStack(stack);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
        GlobalSecondaryIndexes: assertions.Match.arrayWith([
          assertions.Match.objectLike({ IndexName: 'lookup1' }),
          assertions.Match.objectLike({ IndexName: 'lookup4' }),
        ]),
      });
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
      });
      const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];
      const env = envOf(template);
      expect(env).toEqual({
        BEESOLVE_ACTION_TOKENS_TABLE_NAME: { Ref: tableId(template) },
        BEESOLVE_ACTION_TOKENS_INDEX_NAME: 'lookup',
        // The secret's ARN (a Ref of an AWS::SecretsManager::Secret is its ARN), never its value.
        TESSERA_SECRET_ARN: { Ref: secretId },
      });
      // Nothing in the template resolves the secret's value: not the function, not anything else.
      expect(JSON.stringify(template.toJSON())).not.toContain('resolve:secretsmanager');
      // Read access to that secret alone, besides the table's actions.
      expect(secretStatements(template)).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: { Ref: secretId },
        },
      ]);
      expect(actionsOf(template)).toEqual([...tessera.DATA_ACTIONS, ...SECRET_READ_ACTIONS].sort());
    });

    it('uses a secret you pass instead of generating one, and grants reading that one only', () => {
      const { assertions, cdk, secretsmanager, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const arn =
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tessera/server-secret-AbCdEf';
      const tokens = new tessera.ActionTokens(stack, 'ActionTokens', {
        secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Given', arn),
        removalPolicy: cdk.RemovalPolicy.DESTROY,
        deletionProtection: false,
      });
      tokens.grantAccess(fn);
      const template = assertions.Template.fromStack(stack);
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      expect(envOf(template).TESSERA_SECRET_ARN).toBe(arn);
      expect(envOf(template)).not.toHaveProperty('TESSERA_SECRET');
      expect(secretStatements(template)).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: arn,
        },
      ]);
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    });

    it('encrypts a generated secret with the customer-managed key, and grants decrypting it', () => {
      const { assertions, kms, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const key = new kms.Key(stack, 'Key');
      const tokens = new tessera.ActionTokens(stack, 'ActionTokens', { encryptionKey: key });
      tokens.grantAccess(fn);
      const template = assertions.Template.fromStack(stack);
      const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
      // The key policy lets the function's role decrypt, through Secrets Manager only.
      const keyPolicy = (
        template.findResources('AWS::KMS::Key')[keyId as string] as {
          Properties: { KeyPolicy: { Statement: Array<Record<string, unknown>> } };
        }
      ).Properties.KeyPolicy.Statement;
      const forRole = keyPolicy.filter((st) =>
        JSON.stringify(st.Principal).includes('FnServiceRole'),
      );
      expect(forRole).toEqual([
        {
          Action: 'kms:Decrypt',
          Condition: {
            StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
          },
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^FnServiceRole/), 'Arn'] } },
          Resource: '*',
        },
      ]);
      expect(JSON.stringify(template.toJSON())).not.toContain('resolve:secretsmanager');
    });
  });

  describe('AccessTokensTable (@access-tokens/core layout)', () => {
    it('creates a tokenId table with TTL on expiresAt and, on request, the owner index', () => {
      const { assertions, tessera } = loaded as Loaded;
      const { stack, fn } = setup();
      const pats = new tessera.AccessTokensTable(stack, 'Pats', { ownerIndex: true });
      pats.grantAccess(fn, { scan: true });
      const template = assertions.Template.fromStack(stack);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'tokenId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'owner-index',
            KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      });
      expect(envOf(template)).toEqual({ TESSERA_ACCESS_TOKENS_TABLE: { Ref: tableId(template) } });
      expect(actionsOf(template)).toEqual([...tessera.DATA_ACTIONS, 'dynamodb:Scan'].sort());
    });

    it('has no index unless asked', () => {
      const { assertions, tessera } = loaded as Loaded;
      const { stack } = setup();
      new tessera.AccessTokensTable(stack, 'Pats');
      const template = assertions.Template.fromStack(stack);
      const table = template.findResources('AWS::DynamoDB::Table')[tableId(template)] as {
        Properties: { GlobalSecondaryIndexes?: unknown };
      };
      expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    });
  });
});
