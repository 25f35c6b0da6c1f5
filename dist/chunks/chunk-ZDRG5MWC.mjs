const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as r}from"./chunk-HZC6Q536.mjs";function a(g,i={}){let n=i.write??(e=>process.stderr.write(`${e}
`)),o="",t=r(e=>n(g.redact(o+e)),"emit");return{debug:r(e=>{i.verbose&&t(`debug: ${e}`)},"debug"),info:r(e=>t(e),"info"),warning:r(e=>t(`warning: ${e}`),"warning"),error:r(e=>t(`error: ${e}`),"error"),async group(e,s){t(e),o+="  ";try{return await s()}finally{o=o.slice(2)}}}}r(a,"consoleLogger");var c={debug(){},info(){},warning(){},error(){},group:r((g,i)=>i(),"group")};export{a,c as b};
//# sourceMappingURL=chunk-ZDRG5MWC.mjs.map
