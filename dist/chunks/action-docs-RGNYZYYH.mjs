import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as y}from"./chunk-22VCRG5B.mjs";import{a as o,g}from"./chunk-G7XAKCW6.mjs";var d=g(y(),1);import{existsSync as s,readdirSync as A,readFileSync as R}from"node:fs";import{join as p}from"node:path";function x(t){let e={},m=s(t)?A(t,{withFileTypes:!0}):[];for(let i of m.filter(n=>n.isDirectory()).map(n=>n.name).sort()){let n=p(t,i,"action.yml");if(!s(n)||!s(p(t,i,"definition.ts")))continue;let r=(0,d.parse)(R(n,"utf8"))??{},c=o(f=>Object.fromEntries(Object.entries(f??{}).map(([a,l])=>[a,u(l?.description)])),"descriptions");e[i]={description:u(r.description),inputs:c(r.inputs),outputs:c(r.outputs)}}return e}o(x,"readActionDocs");function u(t){return typeof t=="string"?t.trim().replace(/\s+/g," "):""}o(u,"oneLine");export{x as readActionDocs};
//# sourceMappingURL=action-docs-RGNYZYYH.mjs.map
