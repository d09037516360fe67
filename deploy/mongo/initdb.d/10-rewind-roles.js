// Creates Rewind's least-privilege roles and one user per service from
// /etc/rewind/mongo/roles.json, with passwords from the compose secrets in /run/secrets.
//
// The official mongo image runs this once, when it initialises an empty data volume,
// connected as the root user. It is idempotent: after changing roles.json or rotating a
// password, run it again (see deploy/README.md, "MongoDB roles and users"):
//   docker compose exec mongo sh -c 'mongosh --quiet -u root \
//     -p "$(cat /run/secrets/mongo_root_password)" --authenticationDatabase admin \
//     /docker-entrypoint-initdb.d/10-rewind-roles.js'
const fs = require("fs");

const SPEC_PATH = process.env.REWIND_MONGO_ROLES || "/etc/rewind/mongo/roles.json";
const SECRETS_DIR = process.env.REWIND_MONGO_SECRETS_DIR || "/run/secrets";

const spec = JSON.parse(fs.readFileSync(SPEC_PATH, "utf8"));
const databaseName = process.env.REWIND_MONGO_DATABASE || spec.database;
const target = db.getSiblingDB(databaseName);

function privilegesOf(role) {
  const privileges = [];
  for (const grant of role.privileges) {
    for (const collection of grant.collections) {
      privileges.push({
        resource: { db: databaseName, collection: collection },
        actions: grant.actions,
      });
    }
  }
  return privileges;
}

function rolesOf(names) {
  return names.map((name) => ({ role: name, db: databaseName }));
}

function readPassword(secret) {
  const password = fs.readFileSync(`${SECRETS_DIR}/${secret}`, "utf8").replace(/[\r\n]+$/, "");
  if (!password) {
    throw new Error(`secret ${secret} is empty`);
  }
  return password;
}

for (const role of spec.roles) {
  const definition = { privileges: privilegesOf(role), roles: rolesOf(role.roles) };
  if (target.getRole(role.role)) {
    target.updateRole(role.role, definition);
    print(`updated role ${role.role}`);
  } else {
    target.createRole(Object.assign({ role: role.role }, definition));
    print(`created role ${role.role}`);
  }
}

for (const user of spec.users) {
  const settings = { pwd: readPassword(user.passwordSecret), roles: rolesOf(user.roles) };
  if (target.getUser(user.user)) {
    target.updateUser(user.user, settings);
    print(`updated user ${user.user}`);
  } else {
    target.createUser(Object.assign({ user: user.user }, settings));
    print(`created user ${user.user}`);
  }
}
