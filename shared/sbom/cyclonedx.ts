import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { platformString } from '../oci/manifest.js';
import {
  compareText,
  type DeclaredLicence,
  documentTime,
  imagePurl,
  readLicence,
  SLIPWAY_SBOM_NAMESPACE,
  shortHash,
  sortPackages,
  splitDigest,
  uuidV5,
} from './spdx.js';
import type { Package, PlatformInventory } from './types.js';

// The CycloneDX 1.6 JSON writer. The library builds and normalises the document; we keep every list in
// code-point order ourselves and serialise with sortLists off, because the library sorts with
// localeCompare, whose order depends on the runner's locale (sv-SE puts "å" after "z", en-US before "b"),
// and a reproducible SBOM must not change with LANG. Every component carries a bom-ref of our own:
// the serialiser invents random ones (Math.random) for components without one.

const HASH_ALGORITHMS: Record<string, Enums.HashAlgorithm> = {
  sha256: Enums.HashAlgorithm['SHA-256'],
  sha384: Enums.HashAlgorithm['SHA-384'],
  sha512: Enums.HashAlgorithm['SHA-512'],
};

function properties(entries: [string, string | undefined][]): Models.PropertyRepository {
  const present = entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  present.sort((a, b) => compareText(a[0], b[0]) || compareText(a[1], b[1]));
  return new Models.PropertyRepository(present.map(([name, value]) => new Models.Property(name, value)));
}

/**
 * CycloneDX 1.6 allows either license entries or exactly one expression, never both. Plain ids and free
 * text become entries; a compound expression becomes the one expression (several are joined with AND, as
 * in the SPDX document), unless free text is present too, in which case the expressions are kept as names.
 */
function licences(declared: readonly DeclaredLicence[]): Models.LicenseRepository {
  const repository = new Models.LicenseRepository();
  const hasCompound = declared.some((l) => l.valid && l.simpleId === undefined);
  const hasText = declared.some((l) => !l.valid);
  if (hasCompound && !hasText) {
    const parts = [
      ...new Set(
        declared.map((l) =>
          l.valid && l.compound && declared.length > 1 ? `(${l.expression})` : l.valid ? l.expression : '',
        ),
      ),
    ].sort(compareText);
    repository.add(new Models.LicenseExpression(parts.join(' AND ')));
    return repository;
  }
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const l of declared) {
    if (l.valid && l.simpleId !== undefined) ids.add(l.simpleId);
    else names.add(l.valid ? l.expression : l.text);
  }
  for (const id of [...ids].sort(compareText)) repository.add(new Models.SpdxLicense(id));
  for (const name of [...names].sort(compareText)) repository.add(new Models.NamedLicense(name));
  return repository;
}

/**
 * bom-refs: the purl when it is unique in the document (what scanners and VEX documents key on), else
 * the purl with a `package-id` qualifier hashed from the evidence path, the way syft disambiguates.
 */
function bomRefs(packages: readonly Package[]): string[] {
  const key = (p: Package): string => p.purl || `slipway:${p.ecosystem}/${p.name}@${p.version}`;
  const counts = new Map<string, number>();
  for (const p of packages) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  const seen = new Set<string>();
  return packages.map((p) => {
    const k = key(p);
    let ref = k;
    if ((counts.get(k) ?? 0) > 1 || !p.purl) {
      // A qualifier goes after any existing qualifiers and before any #subpath.
      const hash = k.indexOf('#');
      const [head, tail] = hash < 0 ? [k, ''] : [k.slice(0, hash), k.slice(hash)];
      ref = `${head}${head.includes('?') ? '&' : '?'}package-id=${shortHash(p.location.path)}${tail}`;
    }
    const base = ref;
    for (let n = 2; seen.has(ref); n++) ref = `${base}-${n}`;
    seen.add(ref);
    return ref;
  });
}

/** CycloneDX 1.6 JSON for one platform image, byte-identical for the same inventory. */
export function writeCycloneDx(inventory: PlatformInventory, tool: { name: 'slipway'; version: string }): string {
  const timestamp = documentTime(inventory.created);
  const packages = sortPackages(inventory.packages);
  const layer = (index: number) => inventory.layers[index];

  const imageRef = imagePurl(inventory);
  const { algorithm, hex } = splitDigest(inventory.manifestDigest);
  const hashAlgorithm = HASH_ALGORITHMS[algorithm];
  const image = new Models.Component(Enums.ComponentType.Container, inventory.name, {
    bomRef: imageRef,
    version: inventory.manifestDigest,
    purl: imageRef,
    ...(hashAlgorithm ? { hashes: new Models.HashDictionary([[hashAlgorithm, hex]]) } : {}),
    properties: properties([
      ['slipway:image:platform', platformString(inventory.platform)],
      ...inventory.layers.flatMap((l, i): [string, string | undefined][] => [
        [`slipway:image:layer:${i}:digest`, l.digest],
        [`slipway:image:layer:${i}:diffId`, l.diffId],
        [`slipway:image:layer:${i}:mediaType`, l.mediaType],
      ]),
    ]),
  });

  const components: Models.Component[] = [];
  if (inventory.distro) {
    const d = inventory.distro;
    components.push(
      new Models.Component(Enums.ComponentType.OperatingSystem, d.id, {
        bomRef: `slipway:os/${d.id}${d.versionId ? `@${d.versionId}` : ''}`,
        ...(d.versionId ? { version: d.versionId } : {}),
        ...(d.prettyName ? { description: d.prettyName } : {}),
        properties: properties([['slipway:distro:codename', d.codename]]),
      }),
    );
  }
  const refs = bomRefs(packages);
  packages.forEach((p, i) => {
    const declared = p.licenses.filter((l) => l.trim() !== '').map(readLicence);
    components.push(
      new Models.Component(Enums.ComponentType.Library, p.name, {
        bomRef: refs[i]!,
        ...(p.version ? { version: p.version } : {}),
        ...(p.purl ? { purl: p.purl } : {}),
        licenses: licences(declared),
        properties: properties([
          ['slipway:package:ecosystem', p.ecosystem],
          ['slipway:location:path', `/${p.location.path}`],
          ['slipway:location:layerIndex', String(p.location.layer)],
          ['slipway:location:layerDigest', layer(p.location.layer)?.digest],
          ['slipway:location:layerDiffId', layer(p.location.layer)?.diffId],
          ['slipway:source:name', p.source?.name],
          ['slipway:source:version', p.source?.version],
          ...Object.entries(p.properties ?? {}).map(([k, v]): [string, string] => [`slipway:metadata:${k}`, v]),
        ]),
      }),
    );
  });
  // The image depends on everything in it, so the graph has one root, as the SPDX CONTAINS edges say.
  for (const c of components) image.dependencies.add(c.bomRef);

  const bom = new Models.Bom({
    serialNumber: `urn:uuid:${uuidV5(SLIPWAY_SBOM_NAMESPACE, `cyclonedx:${inventory.name}@${inventory.manifestDigest}`)}`,
    metadata: new Models.Metadata({
      timestamp,
      tools: new Models.Tools({
        components: new Models.ComponentRepository([
          new Models.Component(Enums.ComponentType.Application, tool.name, { version: tool.version }),
        ]),
      }),
      component: image,
    }),
    components: new Models.ComponentRepository(components),
  });
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: false, space: 2 })}\n`;
}
