import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{c as t}from"./chunk-LN5BQLAK.mjs";import{a as r}from"./chunk-G7XAKCW6.mjs";var i=253402300799;function c(n){return n.toISOString().replace(/\.\d{3}Z$/,"Z")}r(c,"rfc3339Seconds");function u(n){return c(new Date(n*1e3))}r(u,"epochToRfc3339");function s(n){let e=n.SOURCE_DATE_EPOCH;if(e===void 0||e==="")return;let o="a whole number of seconds since 1970-01-01T00:00:00Z";if(!/^\d+$/.test(e))throw new t("SOURCE_DATE_EPOCH",e,o,"it is not a non-negative whole number");if(Number(e)>i)throw new t("SOURCE_DATE_EPOCH",e,o,"it is after the year 9999");return u(Number(e))}r(s,"sourceDateEpoch");export{c as a,u as b,s as c};
//# sourceMappingURL=chunk-NX5KQCKA.mjs.map
