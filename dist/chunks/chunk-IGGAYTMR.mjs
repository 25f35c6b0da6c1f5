import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a}from"./chunk-CPS274D3.mjs";import{a as n}from"./chunk-U4CD6YIO.mjs";import{randomUUID as m}from"node:crypto";import{appendFileSync as u}from"node:fs";function d(s){return s.replace(/%/g,"%25").replace(/\r/g,"%0D").replace(/\n/g,"%0A")}n(d,"escapeCommandData");function p(s){return d(s).replace(/:/g,"%3A").replace(/,/g,"%2C")}n(p,"escapeCommandProperty");function g(s,i,r={}){let e=Object.entries(r).filter(t=>t[1]!==void 0).map(([t,o])=>`${t}=${p(String(o))}`).join(",");return`::${s}${e?` ${e}`:""}::${d(i)}`}n(g,"formatWorkflowCommand");function y(s,i,r,e){let t=`ghadelimiter_${m()}`;if(r.includes(t)||e.includes(t))throw new a(`Refusing to write ${r} to ${i}: the value contains the delimiter.`);if(r.includes(`
`)||r.includes("\r")||r.includes("=")||r==="")throw new a(`Refusing to write ${JSON.stringify(r)} to ${i}: not a valid name.`);u(l(s,i),`${r}<<${t}
${e}
${t}
`,"utf8")}n(y,"appendKeyValueCommand");function l(s,i){let r=s[i];if(!r)throw new a(`${i} is not set: this entry is meant to run as a GitHub Actions step; use the slipway CLI to run it locally.`);return r}n(l,"commandFile");function C(s,i=r=>process.stdout.write(`${r}
`)){let r=n(e=>i(s.redact(e)),"emit");return{debug:n(e=>r(g("debug",e)),"debug"),info:n(e=>r(e),"info"),warning:n(e=>r(g("warning",e)),"warning"),error:n(e=>r(g("error",e)),"error"),async group(e,t){r(g("group",e));try{return await t()}finally{r(g("endgroup",""))}}}}n(C,"runnerLogger");function S(s,i={}){let r=i.write??(o=>process.stderr.write(`${o}
`)),e="",t=n(o=>r(s.redact(e+o)),"emit");return{debug:n(o=>{i.verbose&&t(`debug: ${o}`)},"debug"),info:n(o=>t(o),"info"),warning:n(o=>t(`warning: ${o}`),"warning"),error:n(o=>t(`error: ${o}`),"error"),async group(o,c){t(o),e+="  ";try{return await c()}finally{e=e.slice(2)}}}}n(S,"consoleLogger");var h={debug(){},info(){},warning(){},error(){},group:n((s,i)=>i(),"group")};export{g as a,y as b,C as c,S as d,h as e};
//# sourceMappingURL=chunk-IGGAYTMR.mjs.map
