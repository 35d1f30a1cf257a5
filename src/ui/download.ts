// Saves text or bytes as a file through a temporary object URL (no server round trip).

export function download(fileName: string, data: string | Uint8Array, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
