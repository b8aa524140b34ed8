import { service } from '@uos/kernel';

interface Reading {
  celsius: number;
}

function parseReading(raw: string): Reading {
  const value = JSON.parse(raw) as Reading | null;
  return { celsius: value!.celsius };
}

export default service({
  start() {
    console.log('timer-exception: scheduling');
    setTimeout(() => {
      const reading = parseReading('null');
      console.log(reading.celsius);
    }, 5);
  },
});
