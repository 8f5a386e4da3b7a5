// EverJust.dev: billing addresses move out of users into their own table, so a user can later have several.
// Old app versions keep reading and writing users.street/city/postal_code; new versions use user_addresses.
import type { Migration } from '../../lambda/database/types';

const migration: Migration = {
  name: 'split_user_address',
  description: 'Move the address columns of users into user_addresses (one row per user)',
  operations: [
    { op: 'moveColumns', table: 'users', columns: ['street', 'city', 'postal_code'], to: 'user_addresses', key: 'user_id' },
    { op: 'addIndex', table: 'user_addresses', name: 'user_addresses_city_idx', columns: ['city'] },
  ],
};

export default migration;
