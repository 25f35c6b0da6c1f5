const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d}from"./chunk-PGTKI4CN.mjs";import"./chunk-HZC6Q536.mjs";export{d as ConfigurationError,c as InvalidValueError,a as SlipwayError,b as showValue};
//# sourceMappingURL=errors-I6AHABDF.mjs.map
