const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e}from"./chunk-QZLPP4CZ.mjs";import"./chunk-BUVM2SXK.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as COMMENT_LIMIT,b as SUMMARY_LIMIT,d as evidenceMarker,e as renderEvidence,c as withoutRecordedTime};
//# sourceMappingURL=render-UFP4NFEO.mjs.map
