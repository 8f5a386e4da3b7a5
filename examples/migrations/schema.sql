-- The EverJust.dev users table the example migrations apply to (001 -> 002 -> 003 -> 004 -> 005 -> 006).
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  street text,
  city text,
  postal_code text,
  trial_ends_at timestamptz,
  legacy_api_token text,
  created_at timestamptz NOT NULL DEFAULT now()
);
