const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e}from"./chunk-WNUYLLBC.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as EVIDENCE_TASK,c as MAX_STATUS_DESCRIPTION,b as deploymentStateFor,e as publishDeployment,d as statusDescription};
//# sourceMappingURL=deployments-XYCA5HMI.mjs.map
