/** How the library's Lambdas (the migration Lambda, the database gate) connect to PostgreSQL. */
export enum DatabaseTls {
  /**
   * TLS, with the server's certificate verified against the certificate authorities the function's Node.js runtime
   * trusts (no CA set is bundled: choose this when the runtime trusts your database's CA).
   */
  VERIFY_FULL = 'verify-full',
  /** TLS without verifying the certificate: encrypted, not authenticated. */
  REQUIRE = 'require',
  /** No TLS (a database without TLS, such as a local test server). */
  DISABLE = 'disable',
}
