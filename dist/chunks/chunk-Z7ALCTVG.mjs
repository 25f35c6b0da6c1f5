import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{c as o}from"./chunk-GFPWX7E5.mjs";import{a as r}from"./chunk-G7XAKCW6.mjs";function a(n){return n.replace(/\\/g,"\\\\").replace(/\|/g,"\\|").replace(/\r?\n/g,"<br>")}r(a,"markdownCell");function d(n,e){let t=r(i=>`| ${i.map(a).join(" | ")} |`,"line");return[t(n),`| ${n.map(()=>"---").join(" | ")} |`,...e.map(t)].join(`
`)}r(d,"markdownTable");var c=253402300799;function s(n){return n.toISOString().replace(/\.\d{3}Z$/,"Z")}r(s,"rfc3339Seconds");function u(n){return s(new Date(n*1e3))}r(u,"epochToRfc3339");function g(n){let e=n.SOURCE_DATE_EPOCH;if(e===void 0||e==="")return;let t="a whole number of seconds since 1970-01-01T00:00:00Z";if(!/^\d+$/.test(e))throw new o("SOURCE_DATE_EPOCH",e,t,"it is not a non-negative whole number");if(Number(e)>c)throw new o("SOURCE_DATE_EPOCH",e,t,"it is after the year 9999");return u(Number(e))}r(g,"sourceDateEpoch");export{d as a,s as b,u as c,g as d};
//# sourceMappingURL=chunk-Z7ALCTVG.mjs.map
