const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e}from"./chunk-7WAFARXB.mjs";import"./chunk-PGTKI4CN.mjs";import"./chunk-HZC6Q536.mjs";export{c as GITHUB_COM_ACTIONS_ISSUER,b as GITHUB_COM_API_URL,a as GITHUB_COM_SERVER_URL,d as githubContext,e as serverUrlForApi};
//# sourceMappingURL=context-2QRNTKHR.mjs.map
