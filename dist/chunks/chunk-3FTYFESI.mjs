const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
var t="application/vnd.in-toto+json",e="https://in-toto.io/Statement/v1",r={slsaProvenance:"https://slsa.dev/provenance/v1",cyclonedx:"https://cyclonedx.org/bom",spdx:"https://spdx.dev/Document/v2.3"};export{t as a,e as b,r as c};
//# sourceMappingURL=chunk-3FTYFESI.mjs.map
