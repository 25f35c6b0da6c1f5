import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as o}from"./chunk-U4CD6YIO.mjs";import{appendFileSync as a}from"node:fs";var i=1024*1024,s=`

> The summary was cut at the runner\u2019s 1 MiB limit; the full record is in the step\u2019s \`record\` output.
`,c=class{static{o(this,"StepSummary")}#t=[];add(r){return this.#t.push(r.trimEnd()),this}get isEmpty(){return this.#t.length===0}render(r){let t=r.redact(`${this.#t.join(`

`)}
`);if(Buffer.byteLength(t)<=i)return t;let e=i-Buffer.byteLength(s);return Buffer.from(t).subarray(0,e).toString("utf8").replace(/\uFFFD$/,"")+s}writeToRunner(r,t){let e=r.GITHUB_STEP_SUMMARY;!e||this.isEmpty||a(e,this.render(t),"utf8")}};function p(n){return n.replace(/\\/g,"\\\\").replace(/\|/g,"\\|").replace(/\r?\n/g,"<br>")}o(p,"markdownCell");function g(n,r){let t=o(e=>`| ${e.map(p).join(" | ")} |`,"line");return[t(n),`| ${n.map(()=>"---").join(" | ")} |`,...r.map(t)].join(`
`)}o(g,"markdownTable");export{c as a,g as b};
//# sourceMappingURL=chunk-QWDVHGGL.mjs.map
