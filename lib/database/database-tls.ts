/** How the migration Lambda connects to PostgreSQL. */
export enum DatabaseTls {
  /** TLS, with the server's certificate verified against the CA set bundled with the handler (RDS's CAs). */
  VERIFY_FULL = 'verify-full',
  /** TLS without verifying the certificate: encrypted, not authenticated. */
  REQUIRE = 'require',
  /** No TLS (a database without TLS, such as a local test server). */
  DISABLE = 'disable',
}
