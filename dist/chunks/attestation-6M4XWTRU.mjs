const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e,f}from"./chunk-SDHQROU3.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as EVIDENCE_PREDICATE_TYPE,c as MAX_TEST_NAMES,b as TEST_RESULT_PREDICATE_TYPE,f as attestEvidence,d as testResultPredicate,e as workflowDescriptor};
//# sourceMappingURL=attestation-6M4XWTRU.mjs.map
