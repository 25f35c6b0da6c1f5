const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e}from"./chunk-D4GKQMQY.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as CANARY_RECORD,d as evaluationPoint,e as evaluationRecord,c as finite,b as readCanaryRecord};
//# sourceMappingURL=canary-NGSXOUHV.mjs.map
