import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{c as s}from"./chunk-4INDE7AB.mjs";import{a as n}from"./chunk-G7XAKCW6.mjs";var o=1024*1024,a=`

> The summary was cut at the runner\u2019s 1 MiB limit; the full record is in the step\u2019s \`record\` output.
`,u=class{static{n(this,"StepSummary")}#r=[];add(r){return this.#r.push(r.trimEnd()),this}get isEmpty(){return this.#r.length===0}render(r){let t=r.redact(`${this.#r.join(`

`)}
`);if(Buffer.byteLength(t)<=o)return t;let i=o-Buffer.byteLength(a);return Buffer.from(t).subarray(0,i).toString("utf8").replace(/\uFFFD$/,"")+a}writeToRunner(r,t){!r.GITHUB_STEP_SUMMARY||this.isEmpty||s(r,"GITHUB_STEP_SUMMARY",this.render(t))}};function c(e){return e.replace(/\\/g,"\\\\").replace(/\|/g,"\\|").replace(/\r?\n/g,"<br>")}n(c,"markdownCell");function l(e,r){let t=n(i=>`| ${i.map(c).join(" | ")} |`,"line");return[t(e),`| ${e.map(()=>"---").join(" | ")} |`,...r.map(t)].join(`
`)}n(l,"markdownTable");export{u as a,l as b};
//# sourceMappingURL=chunk-REJRETA6.mjs.map
