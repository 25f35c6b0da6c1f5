const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
var e=["kustomization","helm-values","manifest","argocd-application","argocd-source","flux-marker"],t={promotion:"Slipway-Promotion",digest:"Slipway-Digest",rollback:"Slipway-Rollback",hold:"Slipway-Hold"},i=".slipway/holds.yaml";export{e as a,t as b,i as c};
//# sourceMappingURL=chunk-OIMXWQUE.mjs.map
