/** How the library's Lambdas (the migration Lambda, the database gate) connect to PostgreSQL. */
export enum DatabaseTls {
  /**
   * TLS, with the server's certificate verified against Node.js's certificate authorities and Amazon's (RDS's among
   * them): the function loads Lambda's /var/runtime/ca-cert.pem through NODE_EXTRA_CA_CERTS, which the Node.js 20+
   * runtimes no longer load by default (it costs cold-start time, so only this mode loads it). A database whose
   * certificate another CA signed fails verification.
   */
  VERIFY_FULL = 'verify-full',
  /** TLS without verifying the certificate: encrypted, not authenticated. */
  REQUIRE = 'require',
  /** No TLS (a database without TLS, such as a local test server). */
  DISABLE = 'disable',
}
