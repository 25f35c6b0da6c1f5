import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as x}from"./chunk-GFPWX7E5.mjs";import{a as o}from"./chunk-G7XAKCW6.mjs";import{spawn as S}from"node:child_process";import{existsSync as y}from"node:fs";import{delimiter as $,isAbsolute as h,join as v}from"node:path";var B=20,f=class extends x{constructor(e,i,d,n){super(`${e} ${n}${d?`:
${d}`:""}`);this.program=e;this.code=i;this.output=d}program;code;output;static{o(this,"ExecError")}name="ExecError"};function R(t,s=process.env){if(h(t))return y(t)?t:void 0;for(let e of(s.PATH??"").split($)){if(!e||!h(e))continue;let i=v(e,t);if(y(i))return i}}o(R,"findProgram");async function I(t,s,e={}){let i=e.env??process.env,d=R(t,i);if(!d)throw new f(t,null,"","is not installed (not found on PATH)");let n=S(d,[...s],{cwd:e.cwd,env:i,stdio:["pipe","pipe","pipe"],shell:!1}),m=[],g=[],p=o(r=>{let{logger:u}=e;if(u)for(let c of r.toString("utf8").split(`
`))c.trim()!==""&&(e.stream?u.info(c):u.debug(c))},"log");n.stdout.on("data",r=>{m.push(r),p(r)}),n.stderr.on("data",r=>{g.push(r),p(r)}),n.stdin.on("error",()=>{}),n.stdin.end(e.input??"");let w=!1,E=e.timeoutMs?setTimeout(()=>{w=!0,n.kill("SIGKILL")},e.timeoutMs):void 0,l=await new Promise((r,u)=>{n.on("error",u),n.on("close",c=>r(c))}).finally(()=>clearTimeout(E)),a={code:l??-1,stdout:Buffer.concat(m).toString("utf8"),stderr:Buffer.concat(g).toString("utf8")};if(w)throw new f(t,l,b(a),`did not finish within ${e.timeoutMs} ms`);if(!(e.okCodes??[0]).includes(a.code))throw new f(t,l,b(a),`failed with exit code ${l??"none (killed)"}`);return a}o(I,"exec");function b(t){return`${t.stderr}
${t.stdout}`.split(`
`).filter(e=>e.trim()!=="").slice(-B).join(`
`)}o(b,"tail");export{f as a,R as b,I as c};
//# sourceMappingURL=chunk-WH75VPOL.mjs.map
