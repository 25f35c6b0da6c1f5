const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e,f,g,h,i}from"./chunk-IWFGQDHE.mjs";import"./chunk-PGTKI4CN.mjs";import"./chunk-HZC6Q536.mjs";export{a as MAX_USER_FILE_BYTES,h as describeJsonFailure,i as fileError,g as parseInputJson,e as readUserJson,d as readUserText,f as readUserYaml,b as resolveInputPath,c as userFile};
//# sourceMappingURL=files-5EI2NGTI.mjs.map
