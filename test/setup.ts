// aws-local-stepfunctions 3.0 uses Node 22's Promise.withResolvers; Node 20 needs the polyfill.
import '../rehearsal/polyfills';
process.env.AWS_REGION ??= 'us-east-1';
// Handlers log JSON lines; tests that assert on logs set their own level.
process.env.ZDT_LOG_LEVEL ??= 'silent';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.CDK_DISABLE_VERSION_CHECK = '1';
process.env.CDK_DISABLE_CLI_TELEMETRY = '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
