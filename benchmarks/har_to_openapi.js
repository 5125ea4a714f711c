// Drives the har-to-openapi library (it has no CLI) on one HAR: node har_to_openapi.js MODULE_DIR IN.har OUT.yaml
const { generateSpec } = require(process.argv[2]);
const fs = require("fs");
const har = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
generateSpec(har, { forceAllRequestsInSameSpec: true, attemptToParameterizeUrl: true, dropPathsWithoutSuccessfulResponse: false })
  .then(r => { fs.writeFileSync(process.argv[4], r.yamlSpec || JSON.stringify(r.spec)); console.log("ok"); })
  .catch(e => { console.error(e); process.exit(1); });
