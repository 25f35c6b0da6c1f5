const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as r}from"./chunk-HZC6Q536.mjs";function a(n){return n.replace(/\\/g,"\\\\").replace(/\|/g,"\\|").replace(/\r?\n/g,"<br>")}r(a,"markdownCell");function i(n,o){let e=r(t=>`| ${t.map(a).join(" | ")} |`,"line");return[e(n),`| ${n.map(()=>"---").join(" | ")} |`,...o.map(e)].join(`
`)}r(i,"markdownTable");export{a,i as b};
//# sourceMappingURL=chunk-EYXFPYSL.mjs.map
