import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as i}from"./chunk-G7XAKCW6.mjs";var o=class extends Error{static{i(this,"SlipwayError")}name="SlipwayError";exitCode=1},a=200;function g(r){let d=r.length>a?`${r.slice(0,a)}\u2026`:r;return JSON.stringify(d)}i(g,"showValue");var c=class extends o{constructor(t,e,s,n){super(`Invalid ${t} ${g(e)}: ${n?`${n}; `:""}expected ${s}.`);this.what=t;this.value=e;this.expected=s;this.detail=n}what;value;expected;detail;static{i(this,"InvalidValueError")}name="InvalidValueError"},l=class r extends o{constructor(t,e,s,n){let u=e===void 0?"the given value":e===""?"empty":g(e);super(`Input '${t}' is ${u}: ${n?`${n}; `:""}expected ${s}.`);this.input=t;this.value=e;this.expected=s;this.detail=n}input;value;expected;detail;static{i(this,"ConfigurationError")}name="ConfigurationError";static fromInvalidValue(t,e,s=!1){let n=new r(t,s?void 0:e.value,e.expected,e.detail);return n.cause=e,n}};export{o as a,g as b,c,l as d};
//# sourceMappingURL=chunk-GFPWX7E5.mjs.map
