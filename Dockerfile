# Backprop Lab for a classroom: docker build -t backprop-lab . && docker run -p 8501:8501 backprop-lab
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY deploy/classroom.toml .streamlit/config.toml
# Downloaded datasets (MNIST, Fashion-MNIST) are cached here; mount a volume to keep them.
ENV BACKPROP_LAB_DATA_DIR=/data
VOLUME /data
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app.py"]
