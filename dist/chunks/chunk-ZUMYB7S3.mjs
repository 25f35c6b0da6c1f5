const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as e}from"./chunk-HZC6Q536.mjs";function t(r){switch(r.kind){case"referrer":return`referrer ${r.manifest} (${r.via})`;case"github":return`GitHub attestation ${r.id??r.url??"(no id)"}`;case"cosign-legacy":return`cosign tag ${r.tag}`}}e(t,"describeLocation");export{t as a};
//# sourceMappingURL=chunk-ZUMYB7S3.mjs.map
